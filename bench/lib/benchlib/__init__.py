"""Helpers of bench/compare: tools (commands, images, peers), primitives (kernel floor),
suites (what is measured), report (statistics and markdown)."""
