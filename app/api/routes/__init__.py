"""One router module per resource; registered in ``app.api.main``."""
