"""Service layer: transactions and business rules between the routers and the models."""
