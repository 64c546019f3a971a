"""realty.evaluation: golden conversations and (later) dataset evaluations."""
