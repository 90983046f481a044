"""A loopback Discord: an emulator of the REST API and gateway for tests and a local sandbox."""
