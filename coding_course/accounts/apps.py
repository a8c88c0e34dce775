from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "coding_course.accounts"
    label = "accounts"
    verbose_name = "Accounts and organisations"
