from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm

from coding_course.accounts.models import Role, User


class SignUpForm(UserCreationForm):
    """Self sign-up creates students; instructors and employers are set up by staff
    or by invitation, because those roles see other people's work."""

    email = forms.EmailField(required=True, help_text="Used for password resets.")
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email", "first_name", "last_name")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account with this e-mail address already exists.", code="duplicate_email"
            )
        return email

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        user.role = Role.STUDENT
        if commit:
            user.save()
        return user
