"""A test double of the national document axis (`vanthu axis-sim`)."""
