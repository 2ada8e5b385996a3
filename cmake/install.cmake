# Installs headers, the library and a CMake package, so an outside project can write
#   find_package(dlcraft CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE dlcraft::dlcraft)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS dlcraft EXPORT dlcraftTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
foreach(dir core kernels layers optim datasets train distributed)
  install(DIRECTORY ${dir}/ DESTINATION include/dlcraft/${dir} FILES_MATCHING PATTERN "*.hpp")
endforeach()
install(FILES ${DLCRAFT_GENERATED}/dlcraft/dlcraft.hpp ${DLCRAFT_GENERATED}/dlcraft/version.hpp
  DESTINATION include/dlcraft)
install(EXPORT dlcraftTargets NAMESPACE dlcraft:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dlcraft)
configure_package_config_file(cmake/dlcraftConfig.cmake.in
  ${PROJECT_BINARY_DIR}/dlcraftConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dlcraft)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/dlcraftConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/dlcraftConfig.cmake ${PROJECT_BINARY_DIR}/dlcraftConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dlcraft)
if(DLCRAFT_BUILD_APPS AND TARGET train_cifar)
  install(TARGETS train_cifar predict bench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
