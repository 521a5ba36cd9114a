## ---- opto22_segment: the role's molecule scenario (extensions/molecule/opto22_segment) ----------------------
# Real packets through a router in network namespaces (tools/netlab); needs root, ip, nft and sshd. The role's
# unit tests (planner, renderer, nft -c in a throwaway namespace, the commit-confirm helper) run in `make unit`.
TEST_TARGETS += test-segment
EXTRA_HELP += test-segment benchmark-segment

.PHONY: test-segment benchmark-segment
test-segment: install require-root
	cd $(CURDIR) && $(BIN)/molecule test -s opto22_segment

# Converge time at 10, 500 and 5,000 rules, against a per-rule loop of nft add rule tasks, and the no-op rerun.
benchmark-segment: install require-root
	$(BIN)/python benchmarks/segment_converge.py
