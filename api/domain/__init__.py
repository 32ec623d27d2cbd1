"""Pure business rules: the rule service, the dose ladder, thresholds.

Nothing here imports FastAPI, SQLModel or SQLAlchemy, or reads the clock.
"""
