# Interim: an empty asset table (replaced by the generator from web/dist).
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/web_assets_data.cc
"#include \"console/web_assets.h\"\nnamespace mailvault::console {\nconst WebAsset* FindWebAsset(std::string_view) { return nullptr; }\n}\n")
add_library(mv_web_assets STATIC ${CMAKE_CURRENT_BINARY_DIR}/web_assets_data.cc)
target_include_directories(mv_web_assets PUBLIC ${PROJECT_SOURCE_DIR}/src)
