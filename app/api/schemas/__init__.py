"""Request/response schemas (Pydantic), kept apart from the ORM models."""
