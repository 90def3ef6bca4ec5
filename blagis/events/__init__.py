"""Events and registrations: cafés, workshops, outings, with capacity and waitlist."""
