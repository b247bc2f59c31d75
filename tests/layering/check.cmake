# One case of layering_test (tests/layering/CMakeLists.txt):
#   cmake -DBUILD_DIR=... -DTARGET=... -DSOURCE=... -DHEADER=... -DHEADER_FILE=...
#         -DEXPECT=pass|fail -P check.cmake
# builds TARGET (whose SOURCE includes HEADER) and checks the outcome. A
# "fail" case passes only if the build failed because HEADER was not found,
# and HEADER exists in the tree: a renamed header or an unrelated build
# error is a test failure, not a pass.
if(NOT EXISTS "${HEADER_FILE}")
  message(FATAL_ERROR "${HEADER_FILE} does not exist: update the case in tests/layering/CMakeLists.txt")
endif()
# Compile it again, not "up to date".
file(TOUCH ${SOURCE})
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
string(REPLACE "." "\\." header_re "${HEADER}")
# gcc: "fatal error: a/b.h: No such file or directory"; clang: "fatal error: 'a/b.h' file not found".
set(not_found_re "'?${header_re}'?:? (No such file or directory|file not found)")
if(EXPECT STREQUAL "pass")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${TARGET} should compile (${HEADER} is a declared dependency):\n${out}")
  endif()
elseif(EXPECT STREQUAL "fail")
  if(rc EQUAL 0)
    message(FATAL_ERROR "${TARGET} compiled: ${HEADER} is reachable without a declared dependency")
  endif()
  if(NOT out MATCHES "${not_found_re}")
    message(FATAL_ERROR "${TARGET} failed, but not because ${HEADER} was not found:\n${out}")
  endif()
else()
  message(FATAL_ERROR "EXPECT must be pass or fail, not '${EXPECT}'")
endif()
message(STATUS "${TARGET}: ${EXPECT}s as expected")
