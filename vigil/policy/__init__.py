"""Policy: what the business does about labels. Evaluation is a pure function."""
