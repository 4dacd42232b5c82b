"""Hidden checks, one pytest module per assignment. Never shown to students."""
