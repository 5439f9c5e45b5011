# pivstation: plain Makefile with pkg-config.
#
#   make              build/pivstation and build/pivstation-vcard (hardened, -O2)
#   make deps         install the Debian 12 packages the project needs
#   make demo         the main job, against virtual cards in a pcsc sandbox
#   make check        ASan/UBSan build; unit tests, fuzz-corpus replay,
#                     every fuzz target for CHECK_FUZZ_SECONDS (5) with leak
#                     detection, integration tests, layer check
#   make fuzz         libFuzzer targets (clang); FUZZ_SECONDS=N runs each N s
#   make check-sweep  `pivstation issue` with the card pulled at every APDU k
#                     (release build in $(BUILD); long: SWEEP_JOBS cards at once)
#   make check-layers make check-headers make lint make clean
#
# Every folder's sources are found by wildcard: add a file, it is built.

SHELL	:= /bin/bash
.DEFAULT_GOAL := all

BUILD	?= build
MODE	?= release		# release | asan | fuzz
CC	?= cc
ifeq ($(origin CC),default)
CC	:= cc
endif

# pkg-config is asked when a rule first needs a layer's flags, never when
# this file is read: on a fresh machine the packages only arrive with `make
# deps`, which every top-level target runs first (in a sub-make for the
# build, so its flags are read after the install).  A package that is still
# missing stops the build with pkg-config's own message.  Each layer gets the
# flags of what it includes (its own and the layers' below it).
PKGS_apdu	:= openssl zlib
PKGS_pcsc	:= libpcsclite $(PKGS_apdu)
PKGS_issuance	:= sqlite3 json-c inih libcurl libmicrohttpd $(PKGS_pcsc)
PKGS_tui	:= ncursesw $(PKGS_issuance)
PKGS_cli	:= $(PKGS_issuance)
PKGS_vcard	:= $(PKGS_apdu)
PKGS_prog	:= ncursesw $(PKGS_issuance)	# what `pivstation` links
PKGS_tests	:= criterion $(PKGS_prog)

# pkg_query OPTION PACKAGES: the flags, or a stop naming what is missing.
pkg_query = $(if $(shell pkg-config --exists $(2) && echo y),$(shell \
	pkg-config $(1) $(2)),$(shell pkg-config --print-errors --exists \
	$(2))$(error pkg-config: $(2): not all installed (run 'make deps')))
# lazy_pkg NAME OPTION PACKAGES: NAME asks pkg-config on first use, once.
define lazy_pkg
$(1) = $$(eval $(1) := $$$$(call pkg_query,$(2),$(3)))$$($(1))
endef
$(foreach l,apdu pcsc issuance tui cli vcard prog tests,$(eval $(call \
	lazy_pkg,CFLAGS_$(l),--cflags,$$(PKGS_$(l))))$(eval $(call \
	lazy_pkg,LIBS_$(l),--libs,$$(PKGS_$(l)))))

CSTD	:= -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN	:= -Wall -Wextra -Wshadow -Wcast-qual -Wwrite-strings -Wpointer-arith \
	   -Wundef -Wvla -Wmissing-prototypes -Wstrict-prototypes \
	   -Wold-style-definition -Wformat=2 -Wimplicit-fallthrough
STRICT	:= -Wconversion -Wsign-conversion
HARDEN	:= -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
LDHARD	:= -pie -Wl,-z,relro,-z,now,-z,noexecstack
ASAN	:= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	   -fno-sanitize-recover=all
FUZZ	:= -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
	   -DPV_FUZZING=1

# CI builds with -Werror (CI=true is set by the CI runner); so can anyone.
ifeq ($(CI),true)
WERROR	?= 1
endif
ifeq ($(WERROR),1)
WARN	+= -Werror
endif

ifeq ($(strip $(MODE)),asan)
OPT	:= $(ASAN)
LDOPT	:= -fsanitize=address,undefined
else ifeq ($(strip $(MODE)),fuzz)
OPT	:= $(FUZZ)
LDOPT	:= -fsanitize=address,undefined
WARN	:= -Wall -Wextra -Wno-unused-parameter
STRICT	:=
else
OPT	:= $(HARDEN) $(shell $(CC) -ftrivial-auto-var-init=zero -fzero-call-used-regs=used \
	     -E -x c /dev/null >/dev/null 2>&1 && echo -ftrivial-auto-var-init=zero -fzero-call-used-regs=used)
LDOPT	:= $(LDHARD)
endif

VERSION	:= $(shell cat VERSION 2>/dev/null || echo 0.0.0)
CPPFLAGS += -I. -DPV_VERSION=\"$(VERSION)\"
CFLAGS	+= $(CSTD) $(WARN) $(OPT) -MMD -MP
LDFLAGS	+= $(LDOPT)
LDLIBS	+= -lm -lpthread

# ---- sources, one library per layer ----------------------------------------
LAYERS	:= apdu pcsc issuance tui vcard cli
APDU_SRC	:= $(wildcard apdu/*.c)
PCSC_SRC	:= $(wildcard pcsc/*.c)
ISSUANCE_SRC	:= $(wildcard issuance/*.c)
TUI_SRC		:= $(wildcard tui/*.c)
VCARD_SRC	:= $(filter-out vcard/main.c,$(wildcard vcard/*.c))
CLI_SRC		:= $(filter-out cli/main.c,$(wildcard cli/*.c))
SUPPORT_SRC	:= $(wildcard tests/support/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIB_apdu	:= $(BUILD)/lib/libpv_apdu.a
LIB_pcsc	:= $(BUILD)/lib/libpv_pcsc.a
LIB_issuance	:= $(BUILD)/lib/libpv_issuance.a
LIB_tui		:= $(BUILD)/lib/libpv_tui.a
LIB_vcard	:= $(BUILD)/lib/libpv_vcard.a
LIB_cli		:= $(BUILD)/lib/libpv_cli.a
LIB_support	:= $(BUILD)/lib/libpv_support.a

# Link order: upper layers first.
CLIENT_LIBS	:= $(LIB_cli) $(LIB_tui) $(LIB_issuance) $(LIB_pcsc) $(LIB_apdu)
VCARD_LIBS	:= $(LIB_vcard) $(LIB_apdu)
ALL_LIBS	:= $(LIB_support) $(LIB_cli) $(LIB_tui) $(LIB_issuance) $(LIB_pcsc) \
		   $(LIB_vcard) $(LIB_apdu)

# Layers whose code must pass the -Wconversion set (STYLE.md §9).
$(BUILD)/obj/apdu/%.o $(BUILD)/obj/pcsc/%.o $(BUILD)/obj/vcard/%.o: EXTRA := $(STRICT)

# Each folder compiles with its layer's package flags.
$(BUILD)/obj/apdu/%.o: PKG = $(CFLAGS_apdu)
$(BUILD)/obj/pcsc/%.o: PKG = $(CFLAGS_pcsc)
$(BUILD)/obj/issuance/%.o: PKG = $(CFLAGS_issuance)
$(BUILD)/obj/tui/%.o: PKG = $(CFLAGS_tui)
$(BUILD)/obj/cli/%.o: PKG = $(CFLAGS_cli)
$(BUILD)/obj/vcard/%.o: PKG = $(CFLAGS_vcard)
$(BUILD)/obj/tests/%.o: PKG = $(CFLAGS_tests)

# V=1 shows full command lines.
ifeq ($(V),1)
Q :=
else
Q := @
endif

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG) $(EXTRA) -c $< -o $@

define lib_rule
$$(LIB_$(1)): $$(call obj,$(2))
	@mkdir -p $$(@D)
	@rm -f $$@
	$$(Q)$$(if $$^,ar rcs $$@ $$^,ar rcs $$@)
endef
$(eval $(call lib_rule,apdu,$(APDU_SRC)))
$(eval $(call lib_rule,pcsc,$(PCSC_SRC)))
$(eval $(call lib_rule,issuance,$(ISSUANCE_SRC)))
$(eval $(call lib_rule,tui,$(TUI_SRC)))
$(eval $(call lib_rule,vcard,$(VCARD_SRC)))
$(eval $(call lib_rule,cli,$(CLI_SRC)))
$(eval $(call lib_rule,support,$(SUPPORT_SRC)))

# ---- programs ------------------------------------------------------------------
BINS	:= $(BUILD)/pivstation
ifneq ($(wildcard vcard/main.c),)
BINS	+= $(BUILD)/pivstation-vcard
endif

.PHONY: all bins
all: bins
bins: $(BINS)

$(BUILD)/pivstation: $(call obj,cli/main.c) $(CLIENT_LIBS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(call obj,cli/main.c) $(CLIENT_LIBS) \
	    $(LIBS_prog) $(LDLIBS)

$(BUILD)/pivstation-vcard: $(call obj,vcard/main.c) $(VCARD_LIBS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(call obj,vcard/main.c) $(VCARD_LIBS) \
	    $(LIBS_vcard) $(LDLIBS)

# ---- unit tests: one Criterion binary per layer folder under tests/unit ----------
UNIT_DIRS	:= $(sort $(patsubst tests/unit/%/,%,$(dir $(wildcard tests/unit/*/*.c))))
UNIT_BINS	:= $(patsubst %,$(BUILD)/tests/unit_%,$(UNIT_DIRS))

define unit_rule
$(BUILD)/tests/unit_$(1): $$(call obj,$$(wildcard tests/unit/$(1)/*.c)) $$(ALL_LIBS)
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(CC) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$(call obj,$$(wildcard tests/unit/$(1)/*.c)) \
	    $$(ALL_LIBS) $$(LIBS_tests) $$(LDLIBS)
endef
$(foreach d,$(UNIT_DIRS),$(eval $(call unit_rule,$(d))))

# ---- fuzz targets: libFuzzer with clang, corpus replay with the same build -------
FUZZ_SRC	:= $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES	:= $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRC))
REPLAY_BINS	:= $(patsubst %,$(BUILD)/fuzz/replay_%,$(FUZZ_NAMES))
FUZZ_BINS	:= $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_NAMES))

$(BUILD)/fuzz/replay_%: $(call obj,tests/fuzz/fuzz_%.c) $(call obj,tests/fuzz/replay_main.c) $(ALL_LIBS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(ALL_LIBS) $(LIBS_tests) \
	    $(LDLIBS)

$(BUILD)/fuzz/fuzz_%: $(call obj,tests/fuzz/fuzz_%.c) $(ALL_LIBS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $(filter %.o,$^) \
	    $(ALL_LIBS) $(LIBS_tests) $(LDLIBS)

# ---- top-level targets ---------------------------------------------------------
ASAN_BUILD	:= build/asan
FUZZ_BUILD	:= build/fuzz
FUZZ_SECONDS	?= 0
# make check runs every fuzz target this long (seconds each)
CHECK_FUZZ_SECONDS ?= 5

.PHONY: deps demo check check-build check-unit check-fuzz-replay check-integ \
	check-layers check-headers fuzz fuzz-build lint clean bench check-sweep

deps:
	@bash mk/deps.sh

# Targets that build do it in a sub-make, after deps: see pkg_query.
demo: deps
	@$(MAKE) --no-print-directory all
	@bash mk/demo.sh $(BUILD)

# check = the build, the layer and header checks, then every test kind;
# check-unit, check-fuzz-replay and check-integ run one kind each
# (check-integ takes PV_INTEG=REGEX to pick tests by name).
check: deps
	@$(MAKE) --no-print-directory MODE=asan BUILD=$(ASAN_BUILD) check-build
	@$(MAKE) --no-print-directory MODE=fuzz CC=clang BUILD=$(FUZZ_BUILD) fuzz-build
	@$(MAKE) --no-print-directory check-layers check-headers
	@PV_FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS) bash mk/check.sh $(ASAN_BUILD) $(FUZZ_BUILD)

check-unit check-fuzz-replay check-integ: deps
	@$(MAKE) --no-print-directory MODE=asan BUILD=$(ASAN_BUILD) check-build
	@PV_CHECK_ONLY=$(patsubst check-%,%,$@) bash mk/check.sh $(ASAN_BUILD)

check-build: $(BINS) $(UNIT_BINS) $(REPLAY_BINS)

check-layers:
	@bash mk/check-layers.sh

check-headers:
	@bash mk/check-headers.sh "$(CC)" "$(CSTD) $(WARN) $(CFLAGS_tests) -I."

fuzz: deps
	@$(MAKE) --no-print-directory MODE=fuzz CC=clang BUILD=$(FUZZ_BUILD) fuzz-build
	@bash mk/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

fuzz-build: $(FUZZ_BINS)

bench: deps
	@$(MAKE) --no-print-directory all
	@bash tests/bench/run $(BUILD)

# Every k from 1 to N (make check runs a sample: tests/integ/issue_fault_sweep.sh).
# SWEEP_PROFILE=piv-card sweeps a plain PIV card; SWEEP_SECOND=m pulls the
# card again at APDU m of each resume.
SWEEP_JOBS	?= 2
SWEEP_PROFILE	?= usb-key
SWEEP_SECOND	?=
check-sweep: deps
	@$(MAKE) --no-print-directory all
	@PV_BIN=$(abspath $(BUILD)) PV_ROOT=$(CURDIR) PV_SWEEP_KS=all \
	    PV_SWEEP_JOBS=$(SWEEP_JOBS) PV_SWEEP_PROFILE=$(SWEEP_PROFILE) \
	    PV_SWEEP_SECOND=$(SWEEP_SECOND) bash tests/integ/issue_fault_sweep.sh

# cppcheck's findings fail the target (exit 1).  json-c's iteration macro
# is unknown to cppcheck (unknownMacro is suppressed: it is not a finding).
lint: deps
	cppcheck --quiet --std=c11 --enable=warning,portability --error-exitcode=1 \
	    --inline-suppr -I. \
	    --suppress=unknownMacro \
	    apdu pcsc issuance vcard cli tui

clean:
	rm -rf build

ALL_OBJ := $(call obj,$(APDU_SRC) $(PCSC_SRC) $(ISSUANCE_SRC) $(TUI_SRC) $(VCARD_SRC) \
	   $(CLI_SRC) $(SUPPORT_SRC) cli/main.c vcard/main.c $(wildcard tests/unit/*/*.c) \
	   $(FUZZ_SRC) tests/fuzz/replay_main.c)
-include $(ALL_OBJ:.o=.d)
