"""The case domain: shops, accounts, complaints and appeals, with their rules."""
