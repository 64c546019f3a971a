"""The listing catalog: synthetic seed, CSV import, match wording."""
