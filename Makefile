# posthaste - the two quick-start commands and a few helpers.
#   make run     install missing packages, build, start the whole stack (foreground)
#   make test    install missing packages, build with ASan+UBSan, run every test
#                (unit + integration, then the libFuzzer targets for 60 s each)
#   make check   the same without the fuzzers
#   make bench   release build, then the smtp-source benchmark beside Postfix
#   make fuzz    clang build with libFuzzer + ASan/UBSan, each fuzz target for 60 s
#   make deps    install what is missing, then check every tool
# Every goal first installs what is missing (scripts/install-deps.sh), then
# checks that the external tools it uses work (scripts/check-tools.sh TOOLS):
# a missing one stops it there with one line naming the package.
BUILD      ?= build
TEST_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
CONFIG     ?=
# the tool groups (scripts/tools.sh) that the goals on the command line use
goals      = $(filter $(1),$(MAKECMDGOALS))
TOOLS      = $(strip build $(if $(call goals,test check test-build),test) \
             $(if $(call goals,test fuzz),fuzz) $(if $(call goals,bench),bench) \
             $(if $(call goals,run),examples) \
             $(if $(call goals,deps),test fuzz bench examples))

.PHONY: all deps build run test check test-build fuzz bench clean

all: build

deps:
	@scripts/install-deps.sh
	@scripts/check-tools.sh $(TOOLS)

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j$(JOBS)

run: build
	$(BUILD)/bin/posthaste run $(if $(CONFIG),--config $(CONFIG))

test-build: deps
	cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPH_SANITIZE=ON
	cmake --build $(TEST_BUILD) -j$(JOBS)

# every test: unit and integration under ASan+UBSan, then each fuzzer for 60 s
test: check fuzz

check: test-build
	cd $(TEST_BUILD) && ctest --output-on-failure -j2 --timeout 600

fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
	    -DPH_SANITIZE=ON -DPH_FUZZ=ON
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target ph_fuzzers
	cd $(FUZZ_BUILD) && ctest -L fuzz --output-on-failure -j2

bench: build
	tests/bench/smtp_source.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(FUZZ_BUILD)
