"""Pure CSV handling: reading and checking uploaded answer sheets, and writing cells a
spreadsheet shows as text. No Django here; the services that use them are in
:mod:`quizzes.bulk`."""
