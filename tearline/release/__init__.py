"""Release: tearlines, determinations, the workflow, consent, recall and the outbox (DESIGN §3.5)."""
