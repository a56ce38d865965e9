"""`make bench`: throughput, latency and dispatch-cost measurements of Masthead on this machine.

Every server it starts listens on 127.0.0.1 only and is stopped before the run ends, even on
errors or Ctrl-C. Results go to bench/results/ (gitignored).
"""
