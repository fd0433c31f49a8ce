"""What a listener knows about its request: the app's dependencies and the admitted staff member."""
