# The console's web front end (web/, TypeScript + Preact, built by Vite),
# compiled into mailvaultd as mv_web_assets (src/console/web_assets.h):
#   npm ci (web/node_modules)  ->  tsc + vite build (<build>/web-dist)
#   ->  scripts/embed_web.py   ->  <build>/web_assets_data.cc
# Each step re-runs only when its inputs change: npm ci when package.json or
# package-lock.json does, the build when any file of web/ does. Nothing is
# written into the source tree but web/node_modules (and its lock file).
# Node 18 or newer and npm come from scripts/deps.sh.

find_program(MV_NPM npm)
find_program(MV_NODE node)
find_package(Python3 REQUIRED COMPONENTS Interpreter)
if(NOT MV_NPM OR NOT MV_NODE)
  message(FATAL_ERROR "The console's web front end needs Node.js and npm: run scripts/deps.sh")
endif()

set(MV_WEB_DIR ${PROJECT_SOURCE_DIR}/web)
set(MV_WEB_BUILD ${PROJECT_SOURCE_DIR}/scripts/web_build.sh)
set(MV_WEB_DIST ${CMAKE_CURRENT_BINARY_DIR}/web-dist)
set(MV_WEB_NPM_STAMP ${CMAKE_CURRENT_BINARY_DIR}/web-npm-ci.stamp)
set(MV_WEB_DIST_STAMP ${CMAKE_CURRENT_BINARY_DIR}/web-dist.stamp)
set(MV_WEB_CC ${CMAKE_CURRENT_BINARY_DIR}/web_assets_data.cc)

add_custom_command(
  OUTPUT ${MV_WEB_NPM_STAMP}
  COMMAND ${MV_WEB_BUILD} deps ${MV_WEB_DIR} ${MV_WEB_NPM_STAMP}
  DEPENDS ${MV_WEB_DIR}/package.json ${MV_WEB_DIR}/package-lock.json ${MV_WEB_BUILD}
  COMMENT "web: npm ci"
  VERBATIM)

file(GLOB_RECURSE MV_WEB_SOURCES CONFIGURE_DEPENDS ${MV_WEB_DIR}/src/* ${MV_WEB_DIR}/public/*)
add_custom_command(
  OUTPUT ${MV_WEB_DIST_STAMP}
  COMMAND ${MV_WEB_BUILD} build ${MV_WEB_DIR} ${MV_WEB_DIST} ${MV_WEB_DIST_STAMP}
  DEPENDS ${MV_WEB_NPM_STAMP} ${MV_WEB_SOURCES} ${MV_WEB_DIR}/index.html ${MV_WEB_DIR}/vite.config.ts
          ${MV_WEB_DIR}/tsconfig.json ${MV_WEB_BUILD}
  COMMENT "web: tsc and vite build"
  VERBATIM)

add_custom_command(
  OUTPUT ${MV_WEB_CC}
  COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/embed_web.py ${MV_WEB_DIST} ${MV_WEB_CC}
  DEPENDS ${MV_WEB_DIST_STAMP} ${PROJECT_SOURCE_DIR}/scripts/embed_web.py
  COMMENT "web: embedding the console into mailvaultd"
  VERBATIM)

add_library(mv_web_assets STATIC ${MV_WEB_CC})
# The generated source includes console/web_assets.h: the console's scope.
mv_scope_dir(console_scope console)
target_include_directories(mv_web_assets PRIVATE ${console_scope})

# The front end's unit tests (pure logic: filter <-> URL, formatting,
# permission gating, the API client). Needs node_modules, which building
# mv_web_assets installs.
if(MV_TESTS)
  add_test(NAME web COMMAND ${MV_WEB_BUILD} test ${MV_WEB_DIR})
  set_tests_properties(web PROPERTIES TIMEOUT 120)
endif()
