# klib's JSON reader and writer (the control protocol's), hosted.
UNIT_TESTS += json
json_SRCS := $(TOP)/tests/unit/test_json.c $(JSON_SRCS) $(KLIB_HOSTED_SRCS)
