# edgerun — one make builds everything.
#   make            library + CLI (build/edgerun)
#   make test       installs test dependencies, then unit, conformance and real-model tests
#   make demo       Silero VAD on a synthesized speech recording
#   make asan       the test suite under AddressSanitizer + UndefinedBehaviorSanitizer
CC ?= cc
# Selective-op builds (OPS=FILE or OPS_FROM=MODELS, see `size` below) go to their own directory.
ifneq ($(OPS)$(OPS_FROM),)
BUILD ?= build-ops
endif
BUILD ?= build
OPT ?= -O2
CFLAGS ?= $(OPT) -g
ER_CFLAGS := -std=c11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
  -D_DEFAULT_SOURCE -Iinclude -Isrc $(CFLAGS) $(SANFLAGS)
LDLIBS := -lm -lpthread

# Device part (freestanding-ready): base, ir, kernels, runtime.  Host part: import, io, api.
DEVICE_SRC := $(wildcard src/base/*.c src/ir/*.c src/kernels/*.c src/kernels/ref/*.c src/runtime/*.c)
X86_SRC := $(wildcard src/kernels/x86/*.c)
# The target machine is the compiler's (cross builds: make CC=aarch64-linux-gnu-gcc ...).
TARGET_MACHINE := $(shell $(CC) -dumpmachine 2>/dev/null)
ifneq ($(filter x86_64%,$(TARGET_MACHINE)),)
DEVICE_SRC += $(X86_SRC)
endif
# AVX512=0: build without the AVX-512 kernels (a smaller x86-64 library; AVX2 is then the best table)
ifeq ($(AVX512),0)
DEVICE_SRC := $(filter-out %-avx512.c,$(DEVICE_SRC))
ER_CFLAGS += -DER_NO_AVX512
endif
HOST_SRC := $(wildcard src/import/*.c src/import/onnx/*.c src/opt/*.c src/io/*.c src/api/*.c \
  src/export/*.c src/quant/*.c src/compress/*.c)
LIB_SRC := $(DEVICE_SRC) $(HOST_SRC)
CLI_SRC := $(wildcard tools/edgerun/*.c)
UNIT_SRC := $(wildcard tests/unit/*.c)
# Small programs the tools tests (tests/tools/*.sh) run: $(BUILD)/tests/NAME from tests/tools/NAME.c
TOOL_TESTS := $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(wildcard tests/tools/*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB := $(BUILD)/libedgerun.a
CLI := $(BUILD)/edgerun
UNIT := $(BUILD)/unit_tests

all: $(LIB) $(CLI)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ER_CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(call obj,$(LIB_SRC))
	@rm -f $@
	@ar rcs $@ $^

$(CLI): $(call obj,$(CLI_SRC)) $(LIB)
	$(CC) $(ER_CFLAGS) -o $@ $(call obj,$(CLI_SRC)) $(LIB) $(LDLIBS)

$(UNIT): $(call obj,$(UNIT_SRC)) $(LIB)
	$(CC) $(ER_CFLAGS) -Itests/unit -o $@ $(call obj,$(UNIT_SRC)) $(LIB) $(LDLIBS)

$(BUILD)/tests/%: tests/tools/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ER_CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/obj/tests/unit/%.o: ER_CFLAGS += -Itests/unit
# ISA flags per file: only x86/ kernels may use AVX2/FMA; chosen at run time from cpuid.
$(BUILD)/obj/src/kernels/x86/%.o: ER_CFLAGS += -mavx2 -mfma -mf16c
# AVX-512F kernels (files named *-avx512.c), chosen from cpuid likewise.
$(BUILD)/obj/src/kernels/x86/%-avx512.o: ER_CFLAGS += -mavx512f
# Code size of the device part (docs/design.md, "Code size"): its objects carry no unwind
# tables (.eh_frame, 7 % of their text; -g still writes .debug_frame for debuggers;
# sanitizer builds keep them for their stack traces), and the reference code that no
# benchmark model spends time in (ML, sequence and signal ops, Einsum/TopK/..., NCHW pooling,
# Cast, Gather/Scatter, control flow, base/ and ir/) is built for size.
COLD_SRC := $(addprefix src/kernels/ref/,ops_ml.c ops_sequence.c ops_signal.c signal_dft.c signal_grid.c \
  signal_nms.c linalg_einsum.c linalg_misc.c conv_pool.c elementwise_cast.c shape_index.c ops_elementwise.c \
  ops_linalg.c) src/kernels/registry.c \
  src/runtime/control_flow.c $(filter-out src/base/threads.c,$(wildcard src/base/*.c)) $(wildcard src/ir/*.c)
ifeq ($(SANFLAGS),)
$(call obj,$(DEVICE_SRC)): ER_CFLAGS += -fno-asynchronous-unwind-tables -ffunction-sections -fdata-sections
endif
$(call obj,$(COLD_SRC)): ER_CFLAGS += -Os

# The device part alone (runtime + kernels, no importer/CLI) as a static library, and its
# code size: `make size` (text = code + read-only data): the whole archive, and the device
# code a program running a prepared model links (tools/device-size/device_min.c linked with
# --gc-sections, minus the same program without edgerun calls; device objects are built
# with -ffunction-sections -fdata-sections so the linker can drop what nothing reaches).
DEVICE_LIB := $(BUILD)/libedgerun_device.a
$(DEVICE_LIB): $(call obj,$(DEVICE_SRC))
	@rm -f $@
	@ar rcs $@ $^
DEVICE_MIN := $(BUILD)/device_min
$(DEVICE_MIN) $(DEVICE_MIN)_empty: tools/device-size/device_min.c $(DEVICE_LIB)
	$(CC) $(ER_CFLAGS) $(if $(filter %_empty,$@),-DER_EMPTY) -no-pie -Wl,--gc-sections -o $@ $< $(DEVICE_LIB) $(LDLIBS)
size: $(DEVICE_LIB) $(DEVICE_MIN) $(DEVICE_MIN)_empty
	@echo "op kernels: $(if $(OPS),$$(grep -c . $(OPS_HDR)) op types from $(OPS),all)"
	@size -t $(DEVICE_LIB) | tail -1 | awk '{printf "device library %s: text %d bytes (%.1f KB), data %d, bss %d\n", "$(DEVICE_LIB)", $$1, $$1/1024, $$2, $$3}'
	@size $(DEVICE_MIN) $(DEVICE_MIN)_empty | awk 'NR == 2 {t = $$1; d = $$2; b = $$3} NR == 3 {printf "linked device program %s: text %d bytes (%.1f KB), data %d, bss %d (minus an empty program)\n", "$(DEVICE_MIN)", t - $$1, (t - $$1)/1024, d - $$2, b - $$3}'

# Selective-op build (like TFLite Micro's op resolver or ONNX Runtime's reduced-ops build):
#   make size OPS=ops.txt                   op types, one per line (# comments)
#   make size OPS_FROM="a.onnx b.onnx"      the op types these models run, from
#                                           `edgerun inspect --ops-list` (after graph passes)
# builds into build-ops/ (or BUILD=...) with registry entries of other op types compiled out
# (ER_OPDEF in src/kernels/kernel.h), so their kernels are never linked. A model using an op
# outside the list fails to load with "op X not in this build". A build that also imports
# ONNX files (the CLI) needs the ops as written too: edgerun inspect --ops-list-import.
ifneq ($(OPS_FROM),)
OPS := $(BUILD)/ops-from.txt
$(OPS): $(OPS_FROM)
	$(MAKE) BUILD=build OPS= OPS_FROM= build/edgerun
	@mkdir -p $(dir $@)
	build/edgerun inspect --ops-list $(OPS_FROM) > $@
endif
ifneq ($(OPS),)
OPS_HDR := $(BUILD)/ops_selected.h
OPS_SRC := src/kernels/registry.c src/runtime/control_flow.c $(wildcard src/kernels/ref/ops_*.c) \
  src/kernels/ref/elementwise_binary.c src/kernels/ref/elementwise_unary.c src/kernels/dispatch.c \
  $(filter %_table.c,$(DEVICE_SRC))
$(OPS_HDR): $(OPS)
	@mkdir -p $(dir $@)
	@sed 's/#.*//' $< | tr -s ' \t\r' '\n\n\n' | grep . | sort -u > $@.list
	@if grep -qv '^[A-Za-z_][A-Za-z0-9_]*$$' $@.list; then echo "$(OPS): not an op type: $$(grep -v '^[A-Za-z_][A-Za-z0-9_]*$$' $@.list | head -1)" >&2; exit 1; fi
	@sed 's/.*/#define ER_OPSEL_& 1/' $@.list > $@.tmp && rm -f $@.list
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(call obj,$(OPS_SRC)): $(OPS_HDR)
$(call obj,$(OPS_SRC)): ER_CFLAGS += -DER_OPS_SELECTED -include $(OPS_HDR) -Wno-unused-function -Wno-unused-variable
endif

# aarch64 (Arm64 gateways): the whole library, the unit tests and the CLI cross-built, run
# under qemu-user: unit tests, then the real models against ONNX Runtime's references
# (needs `make test`'s set-up once). Installs the cross compiler and qemu from Debian when missing. The portable
# kernels are what runs there (NEON kernels would plug into the same dispatch table).
# gcc 12's aarch64 vectorizer crashes on some test files (an internal compiler error in
# vect_transform_reduction), so the unit tests (not the library) are built without loop
# vectorization there.
ARM64_CC := aarch64-linux-gnu-gcc
cross-test:
	@command -v $(ARM64_CC) >/dev/null && command -v qemu-aarch64 >/dev/null || \
	  { apt-get update -qq && apt-get install -y -qq gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user; }
	$(MAKE) BUILD=build-arm64 CC=$(ARM64_CC) build-arm64/unit_tests build-arm64/edgerun
	qemu-aarch64 -L /usr/aarch64-linux-gnu build-arm64/unit_tests
	@printf '#!/bin/sh\nexec qemu-aarch64 -L /usr/aarch64-linux-gnu "$$(dirname "$$0")/edgerun" "$$@"\n' > build-arm64/edgerun-qemu
	@chmod +x build-arm64/edgerun-qemu
	bash tests/run-models.sh build-arm64/edgerun-qemu
ifeq ($(BUILD),build-arm64)
$(BUILD)/obj/tests/unit/%.o: ER_CFLAGS += -fno-tree-loop-vectorize
endif

unit: $(UNIT)
	$(UNIT)

# Full test suite. scripts/setup-test.sh installs packages and fetches models (pinned).
# The VAD demo program (tools/vad-demo), built with the library's flags (sanitizers too).
VAD_DEMO := $(BUILD)/vad_demo
$(VAD_DEMO): tools/vad-demo/vad_demo.c $(LIB)
	$(CC) $(ER_CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

test: all $(UNIT) $(TOOL_TESTS) $(VAD_DEMO)
	bash scripts/setup-test.sh
	$(UNIT)
	bash tests/run-cli.sh $(CLI)
	bash tests/run-tools.sh $(CLI)
	bash tests/run-conformance.sh $(CLI)
	bash tests/run-models.sh $(CLI)
	bash tests/run-arena.sh $(CLI)
	$(MAKE) ops-test

# A selective-op build of the CLI with MobileNetV2's op types only (tests/run-ops.sh). It
# starts from a copy of this build's objects: only the registry and family files differ.
OPS_TEST := $(BUILD)/ops-test
ops-test: $(CLI)
	@rm -rf $(OPS_TEST) && mkdir -p $(OPS_TEST) && cp -a $(BUILD)/obj $(OPS_TEST)/
	$(CLI) inspect --ops-list-import .cache/models/tv_mobilenet_v2.onnx > $(OPS_TEST)/ops.txt
	$(MAKE) BUILD=$(OPS_TEST) OPS=$(OPS_TEST)/ops.txt $(OPS_TEST)/edgerun
	bash tests/run-ops.sh $(OPS_TEST)/edgerun $(CLI)

demo: all $(VAD_DEMO)
	bash scripts/demo.sh $(CLI)

asan:
	$(MAKE) BUILD=build-asan OPT=-O1 SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" test

# libFuzzer targets (clang): build-fuzz/fuzz_<name> for each fuzz/fuzz_<name>.c, linked with
# the library built with the same per-file ISA flags. Run one for 10 minutes:
#   build-fuzz/fuzz_onnx -max_total_time=600 CORPUS_DIR
FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
fuzz:
	@command -v clang >/dev/null || { apt-get update -qq && apt-get install -y -qq clang libclang-rt-14-dev; }
	$(MAKE) BUILD=build-fuzz CC=clang OPT=-O1 \
	  SANFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" fuzz-bins
fuzz-bins: $(patsubst fuzz/%.c,$(BUILD)/%,$(FUZZ_SRC))
$(BUILD)/fuzz_%: fuzz/fuzz_%.c $(LIB)
	$(CC) $(ER_CFLAGS) -fsanitize=fuzzer -o $@ $< $(LIB) $(LDLIBS)

clean:
	rm -rf build build-asan build-fuzz build-arm64

.PHONY: all unit test demo asan fuzz fuzz-bins clean size cross-test ops-test
-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# Kernel micro-benchmarks: build/bench_<name> for each bench/kernels/<name>.c (see bench/README.md)
BENCH_SRC := $(wildcard bench/kernels/*.c)
bench-kernels: $(patsubst bench/kernels/%.c,$(BUILD)/bench_%,$(BENCH_SRC))
$(BUILD)/bench_%: bench/kernels/%.c $(LIB)
	$(CC) $(ER_CFLAGS) -o $@ $< $(LIB) $(LDLIBS)
.PHONY: bench-kernels
# AVX-VNNI kernels (x86/*-avxvnni.c): used only when cpuid reports AVX-VNNI.
$(BUILD)/obj/src/kernels/x86/%-avxvnni.o: ER_CFLAGS += -mavxvnni

# Integer execution vs ONNX Runtime on real models quantized by its quantize_static
# (scripts/make-qdq-models.py, tests/run-qdq.sh); part of `make test`.
test: test-qdq
test-qdq: all
	bash scripts/setup-test.sh
	bash tests/run-qdq.sh $(CLI)
.PHONY: test-qdq
# AVX-512 VNNI and AMX int8 kernels (x86/*-avx512vnni.c, *-amx.c): used only when cpuid reports
# them (and, for AMX, the OS grants the tile state).
$(BUILD)/obj/src/kernels/x86/%-avx512vnni.o: ER_CFLAGS += -mavx512f -mavx512bw -mavx512vl -mavx512vnni
$(BUILD)/obj/src/kernels/x86/%-amx.o: ER_CFLAGS += -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mamx-tile -mamx-int8
