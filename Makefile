# bpstune -- build, test and install.
#   make            build (debug)
#   make test       unit tests + end-to-end tests of the built binary (its host tier needs root: network
#                   namespaces with veth pairs)
#   make test-json  only the test of every command's --format json against contrib/schema
#   make test-vm    VM tier: Debian kernels 6.1, 6.12 and the newest sid kernel under QEMU with an
#                   emulated igb NIC (Tests/VM/vm-test; downloads cached in /var/cache/bpstune-vm),
#                   and on the sid kernel a guest with systemd as PID 1 and the .deb installed
#                   (Tests/VM/systemd-guest: enable, reboots, NIC hot-add, driver reload, disable)
#   make test-vm SCENARIO=NAME  one of them on the first kernel only (systemd: the systemd guest)
#   make test-vm-list  the VM tier's scenario names, in the order they run
#   make fuzz       libFuzzer on the profile loader and the snapshot reader, FUZZ_SECONDS each
#                   (part of make test), starting from Tests/Corpus and profiles/
#   make lint       swift format lint with the checked-in .swift-format
#   make docs       docs/profile-format.md rendered from bpstune.profile(5); make docs-check (part
#                   of make test) fails when the checked-in file is not that rendering
#   make deb        bpstune_VERSION_amd64.deb in .build-deb (contrib/debian/build-deb), checked by lintian
#   make deb-test   that package installed with apt into a bare Debian root (part of make test)
#   make ansible-test  the Ansible collection (contrib/ansible): built, ansible-doc, ansible-test
#                   sanity, and its playbooks against a veth in a network namespace (part of make test;
#                   ansible-core from PyPI in a virtual environment cached in /var/cache/bpstune-ansible)
#   make bench      bpstune against the equivalent shell scripts (reading and writing) and static
#                   C programs (the physical limit), side by side (not in make test)
#   make order-functions  regenerates the release binary's function layout (contrib/debian/bpstune.order)
#   make install    the package's layout under $(PREFIX) (default /usr/local) and $(DESTDIR);
#                   make uninstall removes it
SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
# A target may import only the targets it names in Package.swift (docs/architecture.md): without
# this check a sibling built earlier would be found anyway.
LAYERS := --explicit-target-dependency-import-check error
PREFIX ?= /usr/local
# Debian packages the build and the tests need: libnl for generic netlink, linux-libc-dev for
# the kernel's uapi headers; ethtool, strace, chrt and taskset (util-linux), the netlink reader
# Tests/Tools/napi-dump.c and the probe server's hostile peer Tests/Tools/probe-peer.c (both
# built with gcc) are the tests' independent checkers; sockperf is the yardstick the latency
# probe is checked against; mandoc renders and lints bpstune.profile(5) for docs-check;
# python3-jsonschema (Debian's python3's) validates every command's --format json output against
# contrib/schema/bpstune-output.schema.json (Tests/Tools/validate-json).
APT_PACKAGES := pkg-config libnl-3-dev libnl-genl-3-dev linux-libc-dev iproute2 ethtool strace util-linux gcc libc6-dev sockperf \
  mandoc python3-jsonschema
MISSING = $(strip $(foreach p,$(APT_PACKAGES),$(if $(shell dpkg-query -W -f='$${Status}' $(p) 2>/dev/null | grep -q 'ok installed' && echo y),,$(p))))

.PHONY: all build deps deb-deps bench order-functions test test-json test-vm test-vm-list fuzz lint format docs docs-check deb deb-test ansible-test install uninstall clean clean-netns

all: build

deps:
	@if [ -n "$(MISSING)" ]; then \
	  echo "installing: $(MISSING)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(MISSING) >/dev/null; \
	fi

build: deps
	$(SWIFT) build $(LAYERS)

lint:
	$(SWIFT) format lint --strict --recursive Package.swift Sources Tests

format:
	$(SWIFT) format --in-place --recursive Package.swift Sources Tests

# The profile format is written once, in bpstune.profile(5) (mdoc); docs/profile-format.md is
# that page rendered by mandoc, with @VERSION@ left out so that the file does not change with
# each release. docs-check fails when the checked-in file is not a fresh rendering, when mandoc
# lints the page with a warning, or when the page's FILES misses a built-in profile.
PROFILE_MAN := contrib/man/bpstune.profile.5
PROFILE_DOC := docs/profile-format.md
render-profile-doc = { echo '<!-- Generated from $(PROFILE_MAN) by `make docs` (mandoc -T markdown); edit the man page, not this file. -->'; \
  echo; sed 's/ @VERSION@$$//' $(PROFILE_MAN) | mandoc -T markdown; }

docs: deps
	@mkdir -p $(dir $(PROFILE_DOC)) && $(render-profile-doc) > $(PROFILE_DOC).tmp && mv $(PROFILE_DOC).tmp $(PROFILE_DOC)
	@echo "rendered $(PROFILE_DOC) from $(PROFILE_MAN)"

docs-check: deps
	@mandoc -T lint -W warning $(PROFILE_MAN) || { echo "✘ mandoc lints $(PROFILE_MAN) with the warnings above"; exit 1; }
	@for p in profiles/*.profile; do n=$$(basename $$p .profile); \
	  sed -n '/^\.Sh FILES/,/^\.Sh /p' $(PROFILE_MAN) | grep -qE "^\.Ic $$n( |$$)" || \
	    { echo "✘ $(PROFILE_MAN): FILES does not list the built-in profile $$n"; exit 1; }; done
	@$(render-profile-doc) | diff -u $(PROFILE_DOC) - || \
	  { echo "✘ $(PROFILE_DOC) is not $(PROFILE_MAN) rendered (the diff above: checked-in -> fresh); fix with: make docs"; exit 1; }
	@echo "✔ $(PROFILE_DOC) is $(PROFILE_MAN) rendered"

# promtool (Debian's prometheus package, unpacked, never installed: no service starts) checks
# the drift metrics as Prometheus parses and lints them; cached outside the repository.
PROMTOOL_CACHE := /var/cache/bpstune-promtool
PROMTOOL := $(PROMTOOL_CACHE)/root/usr/bin/promtool

$(PROMTOOL):
	mkdir -p $(PROMTOOL_CACHE) && cd $(PROMTOOL_CACHE) && rm -rf root prometheus_*.deb && \
	  (apt-get download -q prometheus 2>/dev/null || (apt-get update -qq && apt-get download -q prometheus 2>/dev/null)) && \
	  dpkg-deb -x prometheus_*.deb root && rm -f prometheus_*.deb && test -x $(PROMTOOL)

# The host tier runs the built binary inside network namespaces; `clean-netns` removes any
# namespace a killed test run may have left (the tests remove their own, also on failure).
test: build lint docs-check $(PROMTOOL)
	$(SWIFT) build --build-tests $(LAYERS)
	$(SWIFT) test --skip-build; status=$$?; $(MAKE) -s clean-netns; exit $$status
	$(MAKE) -s fuzz
	$(MAKE) -s deb-test
	$(MAKE) -s ansible-test

# Every command's --format json output, success and error, against contrib/schema with
# python3-jsonschema (Tests/EndToEndTests/HostTier/JSONSchemaTests.swift; root: a network
# namespace with a veth pair, removed by the test). Part of make test; this runs it alone.
test-json: build
	$(SWIFT) build --build-tests $(LAYERS)
	$(SWIFT) test --skip-build --filter JSONSchemaTests

# libFuzzer (swift build --sanitize fuzzer) on the two readers of untrusted files, for a bounded
# time each. New inputs go to .build-fuzz/corpus-*; a crash leaves .build-fuzz/crash-* and
# fails the target (replay one with: .build/debug/bpstune-fuzz profile FILE).
FUZZ_SECONDS ?= 60
FUZZ_DIR := .build-fuzz
fuzz: deps
	$(SWIFT) build --sanitize fuzzer -Xswiftc -DFUZZING --scratch-path $(FUZZ_DIR) --product bpstune-fuzz
	@for target in profile snapshot; do \
	  case $$target in profile) seeds="Tests/Corpus/profiles profiles" ;; snapshot) seeds="Tests/Corpus/snapshots Tests/Corpus/seeds" ;; esac; \
	  mkdir -p $(FUZZ_DIR)/corpus-$$target $(FUZZ_DIR)/work-$$target; \
	  echo "fuzz $$target: $(FUZZ_SECONDS) s from $$seeds"; \
	  BPSTUNE_FUZZ_TARGET=$$target BPSTUNE_FUZZ_DIR=$(FUZZ_DIR)/work-$$target SWIFT_BACKTRACE=enable=no \
	    $(FUZZ_DIR)/debug/bpstune-fuzz $(FUZZ_DIR)/corpus-$$target $$seeds \
	    -dict=Tests/Fuzz/$$target.dict -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=10 \
	    -rss_limit_mb=2048 -artifact_prefix=$(FUZZ_DIR)/ -print_final_stats=1 2>$(FUZZ_DIR)/fuzz-$$target.log; \
	  status=$$?; \
	  grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' $(FUZZ_DIR)/fuzz-$$target.log | sed "s/^/  $$target /"; \
	  if [ $$status -ne 0 ]; then grep -vE '^#[0-9]' $(FUZZ_DIR)/fuzz-$$target.log | tail -40; \
	    echo "✘ Test fuzz-$$target failed after $(FUZZ_SECONDS) seconds"; exit 1; fi; \
	  echo "✔ fuzz $$target: no crash in $(FUZZ_SECONDS) s"; \
	done

# The VM tier fetches QEMU and the kernels itself, with apt through its own source lists.
test-vm: deb-deps
	Tests/VM/vm-test $(SCENARIO)

test-vm-list:
	@Tests/VM/vm-test --list

clean-netns:
	@for ns in $$(ip netns list 2>/dev/null | awk '/^bpst-/ {print $$1}'); do ip netns del $$ns; done; true

# Packaging: a release build with the Swift standard library linked statically, in .build-deb.
# (openssl: ansible-test, which needs deb-deps, serves the package over https with a
# self-signed certificate it makes.)
DEB_APT_PACKAGES := dpkg-dev lintian debootstrap man-db binutils openssl python3
DEB_MISSING = $(strip $(foreach p,$(DEB_APT_PACKAGES),$(if $(shell dpkg-query -W -f='$${Status}' $(p) 2>/dev/null | grep -q 'ok installed' && echo y),,$(p))))
VERSION := $(shell sed -n 's/^let bpstuneVersion = "\(.*\)"$$/\1/p' Sources/bpstune/Version.swift)
DEB := .build-deb/bpstune_$(VERSION)_amd64.deb

deb-deps: deps
	@if [ -n "$(DEB_MISSING)" ]; then \
	  echo "installing: $(DEB_MISSING)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_MISSING) >/dev/null; \
	fi

deb: deb-deps
	SWIFT=$(SWIFT) contrib/debian/build-deb
	lintian --fail-on error $(DEB)

deb-test: deb
	contrib/debian/test-deb $(DEB)

# The module and role run the packaged binary (the one the .deb holds), with Debian's python3 as
# the managed host's interpreter; contrib/ansible/venv installs ansible-core (and python3-venv).
# (The package is built when missing; make test has just built it.)
ansible-test: $(if $(wildcard $(DEB)),deb-deps,deb)
	contrib/ansible/run-tests .build-deb/release/bpstune $(DEB)

install: deb-deps
	SWIFT=$(SWIFT) contrib/debian/build-release
	contrib/debian/install-tree .build-deb/release/bpstune "$(DESTDIR)" $(PREFIX) $(VERSION)

# Side by side, in one run: bpstune diff/verify against the shell script people use today, on
# veths with 1, 8 and 64 queues; startup time and memory; system calls against the minimum.
# Not part of make test (timings are noisy); its figures are in docs/performance.md.
bench: deb-deps
	@command -v hyperfine >/dev/null && [ -x /usr/bin/time ] || \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine time >/dev/null
	SWIFT=$(SWIFT) contrib/debian/build-release
	contrib/bench/run

# Regenerates contrib/debian/bpstune.order (the release binary's function layout) from callgrind
# runs of --version, diff and verify; after changes that move much code.
order-functions: deb-deps
	SWIFT=$(SWIFT) contrib/bench/order-functions

# Removes exactly what install-tree installs (the admin's /etc/bpstune/profiles only when empty).
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/bpstune $(DESTDIR)$(PREFIX)/share/man/man8/bpstune.8.gz \
	  $(DESTDIR)$(PREFIX)/share/man/man5/bpstune.profile.5.gz \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/bpstune \
	  $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_bpstune \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/bpstune.fish
	rm -rf $(DESTDIR)$(PREFIX)/share/bpstune $(DESTDIR)$(PREFIX)/share/doc/bpstune
	rm -f $(foreach u,bpstune.service bpstune-interface@.service bpstune-drift.service bpstune-drift.timer,\
	  $(DESTDIR)$(if $(filter /usr,$(PREFIX)),,$(PREFIX))/lib/systemd/system/$(u))
	-rmdir $(DESTDIR)/etc/bpstune/profiles $(DESTDIR)/etc/bpstune 2>/dev/null

clean:
	rm -rf .build
