"""Employer assessments: timed, one-attempt exams that an organisation gives its candidates."""
