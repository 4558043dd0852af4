"""Policy: who may act, and the per-request context that reads filter with.

Evaluation order: the marking rules of DESIGN §3.3 (tearline.markings) decide visibility;
workspace host rules (Cedar, stored as versioned data) can only deny on top of them; roles grant
actions, never visibility.
"""
