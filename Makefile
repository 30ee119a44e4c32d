# edgerun — one make builds everything.
#   make            library + CLI (build/edgerun)
#   make test       installs test dependencies, then unit, conformance and real-model tests
#   make demo       Silero VAD on a synthesized speech recording
#   make asan       the test suite under AddressSanitizer + UndefinedBehaviorSanitizer
CC ?= cc
BUILD ?= build
OPT ?= -O2
CFLAGS ?= $(OPT) -g
ER_CFLAGS := -std=c11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
  -D_DEFAULT_SOURCE -Iinclude -Isrc $(CFLAGS) $(SANFLAGS)
LDLIBS := -lm -lpthread

# Device part (freestanding-ready): base, ir, kernels, runtime.  Host part: import, io, api.
DEVICE_SRC := $(wildcard src/base/*.c src/ir/*.c src/kernels/*.c src/kernels/ref/*.c src/runtime/*.c)
X86_SRC := $(wildcard src/kernels/x86/*.c)
ifneq ($(filter x86_64,$(shell uname -m)),)
DEVICE_SRC += $(X86_SRC)
endif
HOST_SRC := $(wildcard src/import/*.c src/import/onnx/*.c src/opt/*.c src/io/*.c src/api/*.c \
  src/export/*.c src/quant/*.c src/compress/*.c)
LIB_SRC := $(DEVICE_SRC) $(HOST_SRC)
CLI_SRC := $(wildcard tools/edgerun/*.c)
UNIT_SRC := $(wildcard tests/unit/*.c)

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
	ar rcs $@ $^

$(CLI): $(call obj,$(CLI_SRC)) $(LIB)
	$(CC) $(ER_CFLAGS) -o $@ $(call obj,$(CLI_SRC)) $(LIB) $(LDLIBS)

$(UNIT): $(call obj,$(UNIT_SRC)) $(LIB)
	$(CC) $(ER_CFLAGS) -Itests/unit -o $@ $(call obj,$(UNIT_SRC)) $(LIB) $(LDLIBS)

$(BUILD)/obj/tests/unit/%.o: ER_CFLAGS += -Itests/unit
# ISA flags per file: only x86/ kernels may use AVX2/FMA; chosen at run time from cpuid.
$(BUILD)/obj/src/kernels/x86/%.o: ER_CFLAGS += -mavx2 -mfma -mf16c
# AVX-512F kernels (files named *-avx512.c), chosen from cpuid likewise.
$(BUILD)/obj/src/kernels/x86/%-avx512.o: ER_CFLAGS += -mavx512f

unit: $(UNIT)
	$(UNIT)

# Full test suite. scripts/setup-test.sh installs packages and fetches models (pinned).
test: all $(UNIT)
	bash scripts/setup-test.sh
	$(UNIT)
	bash tests/run-cli.sh $(CLI)
	bash tests/run-tools.sh $(CLI)
	bash tests/run-conformance.sh $(CLI)
	bash tests/run-models.sh $(CLI)
	bash tests/run-arena.sh $(CLI)

demo: all
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
	rm -rf build build-asan build-fuzz

.PHONY: all unit test demo asan fuzz fuzz-bins clean
-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
