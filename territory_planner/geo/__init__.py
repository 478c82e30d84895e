"""Geographic building blocks: adjacency between units and contiguity of territories."""
