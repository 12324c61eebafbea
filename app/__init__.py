"""OneTouch: a lightweight multi-tenant MOOC platform."""
