"""Models of the absences capability (built in a later issue)."""
