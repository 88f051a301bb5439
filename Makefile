# bpstune -- build, test and install.
#   make            build (debug)
#   make test       unit tests + host-tier tests (root: network namespaces with veth pairs)
#   make test-vm    VM tier: Debian kernels 6.1, 6.12 and the newest sid kernel under QEMU with an
#                   emulated igb NIC (Tests/VM/vm-test; downloads cached in /var/cache/bpstune-vm)
#   make lint       swift format lint with the checked-in .swift-format
#   make install    release build into $(PREFIX)/bin, profiles into $(PREFIX)/share/bpstune/profiles
SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
PREFIX ?= /usr/local
# Debian packages the build and the tests need: libnl for generic netlink, linux-libc-dev for
# the kernel's uapi headers; ethtool, strace, chrt and taskset (util-linux) and the netlink reader
# Tests/Tools/napi-dump.c (built with gcc) are the tests' independent checkers.
APT_PACKAGES := pkg-config libnl-3-dev libnl-genl-3-dev linux-libc-dev iproute2 ethtool strace util-linux gcc libc6-dev
MISSING = $(strip $(foreach p,$(APT_PACKAGES),$(if $(shell dpkg-query -W -f='$${Status}' $(p) 2>/dev/null | grep -q 'ok installed' && echo y),,$(p))))

.PHONY: all build deps test test-vm unit-test host-test lint format install clean clean-netns

all: build

deps:
	@if [ -n "$(MISSING)" ]; then \
	  echo "installing: $(MISSING)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(MISSING) >/dev/null; \
	fi

build: deps
	$(SWIFT) build

lint:
	$(SWIFT) format lint --strict --recursive Package.swift Sources Tests

format:
	$(SWIFT) format --in-place --recursive Package.swift Sources Tests

# The host tier runs the built binary inside network namespaces; `clean-netns` removes any
# namespace a killed test run may have left (the tests remove their own, also on failure).
test: build lint
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build; status=$$?; $(MAKE) -s clean-netns; exit $$status

# The VM tier fetches QEMU and the kernels itself, with apt through its own source lists.
test-vm: deps
	Tests/VM/vm-test

clean-netns:
	@for ns in $$(ip netns list 2>/dev/null | awk '/^bpst-/ {print $$1}'); do ip netns del $$ns; done; true

install:
	$(SWIFT) build -c release
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/bpstune/profiles
	install -m 0755 .build/release/bpstune $(DESTDIR)$(PREFIX)/bin/bpstune
	install -m 0644 profiles/*.profile $(DESTDIR)$(PREFIX)/share/bpstune/profiles/

clean:
	rm -rf .build
