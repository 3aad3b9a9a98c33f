"""External-feed collectors: fetch one day of a provider's data and land it in raw."""
