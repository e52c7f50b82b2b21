# Build configuration for the inventory library
cmake_minimum_required(VERSION 3.16)

project(Inventory
  VERSION 2.4.1
  DESCRIPTION "Small inventory library"
  LANGUAGES C CXX)

option(INVENTORY_BUILD_TESTS "Build the unit tests" ON)
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)

set(INVENTORY_SOURCES
  src/item.cpp
  src/store.cpp
  src/report.cpp
)

if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
elseif(CMAKE_BUILD_TYPE STREQUAL "Debug")
  add_compile_definitions(INVENTORY_DEBUG=1)
else()
  message(STATUS "Build type: ${CMAKE_BUILD_TYPE}")
endif()

find_package(Threads REQUIRED)

add_library(inventory STATIC ${INVENTORY_SOURCES})
target_include_directories(inventory
  PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
  PRIVATE src)
target_link_libraries(inventory PRIVATE Threads::Threads)

function(inventory_add_tool name)
  cmake_parse_arguments(ARG "" "OUTPUT" "SOURCES" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE inventory)
  if(ARG_OUTPUT)
    set_target_properties(${name} PROPERTIES OUTPUT_NAME ${ARG_OUTPUT})
  endif()
endfunction()

inventory_add_tool(invctl SOURCES tools/invctl.cpp OUTPUT inventory-ctl)

foreach(warning IN ITEMS -Wall -Wextra -Wpedantic)
  target_compile_options(inventory PRIVATE ${warning})
endforeach()

macro(log_var var)
  message(STATUS "${var} = [${${var}}]")
endmacro()
log_var(PROJECT_VERSION)

if(INVENTORY_BUILD_TESTS)
  enable_testing()
  file(GLOB TEST_FILES "${CMAKE_CURRENT_SOURCE_DIR}/tests/*.cpp")
  foreach(test_file ${TEST_FILES})
    get_filename_component(test_name ${test_file} NAME_WE)
    add_executable(${test_name} ${test_file})
    target_link_libraries(${test_name} PRIVATE inventory)
    add_test(NAME ${test_name} COMMAND ${test_name} --verbose)
  endforeach()
endif()

install(TARGETS inventory DESTINATION lib)
install(DIRECTORY include/ DESTINATION include)
