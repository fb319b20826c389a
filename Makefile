# shoal — the project's vocabulary: make, make test, make e2e, make vm-test, make demo,
# make bench, make bench-raft, make bench-tasks, make bench-overlay, make bench-dns, make bench-lb, make install. Run as root on Debian or Ubuntu with Swift 6.

PREFIX ?= /usr/local
DESTDIR ?=
BIN := bin/shoal
ARCH := $(shell uname -m | sed -e 's/x86_64/amd64/' -e 's/aarch64/arm64/')
DIST := dist
# lld folds identical functions (--icf=all, as Apple's linker deduplicates Swift code by default): half a MB less.
STATIC_FLAGS := --product shoal -c release --static-swift-stdlib -Xswiftc -static-executable -Xswiftc -Osize \
	-Xswiftc -use-ld=lld -Xlinker --icf=all
SOURCES := $(shell find Sources -type f) Package.swift

# Debian packages the build, the tests and the benchmarks need.
APT_PACKAGES := libnl-3-dev libnl-route-3-dev pkg-config file iproute2 iputils-ping python3-prometheus-client \
	curl python3 util-linux procps nftables bind9-dnsutils qemu-system-x86 busybox-static

.PHONY: all deps bench-deps test unit e2e vm-test demo bench bench-raft bench-tasks bench-overlay bench-dns bench-lb install uninstall dist clean

all: $(BIN)

# The one static, stripped executable everything else runs.
$(BIN): $(SOURCES)
	@command -v swift >/dev/null || { echo "shoal: swift not found: install Swift 6 from swift.org and retry" >&2; exit 1; }
	swift build $(STATIC_FLAGS)
	@mkdir -p bin
	cp "$$(swift build $(STATIC_FLAGS) --show-bin-path)/shoal" $(BIN)
	strip $(BIN)
	@file $(BIN) | grep -q "statically linked" || { echo "shoal: $(BIN) is not statically linked" >&2; exit 1; }

# The peers the benchmarks measure shoal against.
BENCH_PACKAGES := etcd-server iperf3 dnsperf dnsmasq-base wrk haproxy

# Installs the Debian packages of $(1) that are missing, and nothing when all are there.
define apt_install_missing
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

# The VM test's kernel (linux-image-amd64) is downloaded and unpacked under
# /var/cache/shoal-vm, never installed: this machine's /boot stays as it is.
deps:
	$(call apt_install_missing,$(APT_PACKAGES))
	@bash scripts/vm-test.sh --fetch-kernel

bench-deps:
	$(call apt_install_missing,$(BENCH_PACKAGES))

test: deps $(BIN) unit e2e
	@if command -v qemu-system-x86_64 >/dev/null; then $(MAKE) --no-print-directory vm-test; \
	else echo "make test: qemu-system-x86_64 is missing, so the VM test (IPVS, cgroup v2) did not run (make deps installs it)"; fi

# The DNS fuzz test keeps both cores busy for a while: it runs after the
# others, so their timeouts (TLS handshakes, elections) never race it.
unit: deps
	swift test --skip DNSTests.FuzzTests
	swift test --skip-build --filter DNSTests.FuzzTests

e2e: deps $(BIN)
	SHOAL=$(CURDIR)/$(BIN) DIST=$(CURDIR)/$(DIST) bash Tests/e2e/run.sh

# Inside a qemu VM of Debian's kernel: IPVS, which this machine's kernel lacks (a 3-node lab), and the
# task sandbox on cgroup v2, where this machine has v1 controllers (Tests/vm/suite.sh).
vm-test: deps $(BIN)
	SHOAL=$(CURDIR)/$(BIN) bash scripts/vm-test.sh

demo: deps $(BIN)
	SHOAL=$(CURDIR)/$(BIN) bash scripts/demo.sh

bench: deps bench-deps $(BIN)
	SHOAL=$(CURDIR)/$(BIN) bash scripts/bench.sh

bench-tasks: deps $(BIN)
	SHOAL=$(CURDIR)/$(BIN) bash scripts/bench-tasks.sh

bench-overlay: deps bench-deps $(BIN)
	SHOAL=$(CURDIR)/$(BIN) bash scripts/bench-overlay.sh

bench-dns: deps bench-deps $(BIN)
	SHOAL=$(CURDIR)/$(BIN) bash scripts/bench-dns.sh

bench-lb: deps bench-deps $(BIN)
	SHOAL=$(CURDIR)/$(BIN) bash scripts/bench-lb.sh

# The Raft benchmark's own tool: a store member and a load generator, built
# apart from the static binary so neither build invalidates the other.
BENCH_BUILD := swift build -c release --scratch-path .build-bench --product shoal-raft-bench
bench-raft: deps bench-deps
	$(BENCH_BUILD)
	BENCH="$$($(BENCH_BUILD) --show-bin-path)/shoal-raft-bench" bash scripts/bench-raft.sh

install: $(BIN)
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/shoal

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/shoal

# What install.sh downloads: the binary and its published checksum.
dist: $(BIN)
	@mkdir -p $(DIST)
	cp $(BIN) $(DIST)/shoal-linux-$(ARCH)
	cd $(DIST) && sha256sum shoal-linux-$(ARCH) > sha256sums.txt

clean:
	rm -rf .build bin $(DIST)
