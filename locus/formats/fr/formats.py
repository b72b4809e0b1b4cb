"""French numbers as French typography writes them: thousands apart by a narrow no-break space
("12 345", U+202F; Django's own French formats use a full no-break space). Everything else
comes from Django's French formats."""

THOUSAND_SEPARATOR = "\u202f"
