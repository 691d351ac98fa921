"""sesam's HTTP service: a FastAPI app factory, one router per resource, pydantic schemas as the contract."""
