"""``python -m oms``: what ``make run`` starts (for now, the core demo)."""

from oms.demo import demo

demo()
