"""closer's benchmark (`make bench`): ratios against baselines measured side by side in one run.

Not part of `make test`: speed lives here, never in a timed test. See the README's "Performance".
"""
