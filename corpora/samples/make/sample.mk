# Build rules for the inventory tool
CC ?= gcc
CFLAGS := -Wall -Wextra -O2 -std=c11
LDFLAGS += -lm
PREFIX ?= /usr/local

SRC_DIR := src
BUILD_DIR := build
SOURCES := $(wildcard $(SRC_DIR)/*.c)
OBJECTS := $(patsubst $(SRC_DIR)/%.c,$(BUILD_DIR)/%.o,$(SOURCES))
TARGET := $(BUILD_DIR)/inventory

VERSION = $(shell git describe --tags --always 2>/dev/null || echo dev)

ifeq ($(DEBUG),1)
    CFLAGS += -g -DDEBUG
else
    CFLAGS += -DNDEBUG
endif

ifdef VERBOSE
Q :=
else
Q := @
endif

.PHONY: all clean install test

all: $(TARGET)

$(TARGET): $(OBJECTS) | $(BUILD_DIR)
	$(Q)$(CC) -o $@ $^ $(LDFLAGS)
	@echo "linked $@ (version $(VERSION))"

$(BUILD_DIR)/%.o: $(SRC_DIR)/%.c | $(BUILD_DIR)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD_DIR):
	mkdir -p $@

test: $(TARGET)
	for t in tests/*.sh; do \
		sh $$t || exit 1; \
	done

install: $(TARGET)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(TARGET) $(DESTDIR)$(PREFIX)/bin/

clean:
	-rm -rf $(BUILD_DIR)

define print_var
	@echo "$(1) = $($(1))"
endef

info:
	$(call print_var,CC)
	$(call print_var,CFLAGS)

include $(wildcard deps/*.mk)
