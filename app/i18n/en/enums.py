"""English display names of the domain enums."""

MESSAGES: dict[str, str] = {}
