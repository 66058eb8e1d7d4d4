# Installation as a service, and the .deb (cpack -G DEB, or `cmake --build <dir> --target package`).
#   <prefix>/bin/obsforge
#   /etc/obsforge/obsforge.yaml                    commented server configuration (a conffile)
#   <prefix>/lib/systemd/system/obsforge.service   hardened unit running `obsforge serve`
#   <prefix>/lib/sysusers.d/obsforge.conf          the `obsforge` system user
#   <prefix>/share/obsforge/templates/             the default templates (the binary embeds the
#                                                  same ones; copy one to override a component)
#   <prefix>/share/obsforge/examples/              the demo stack with its rule files
#   <prefix>/share/doc/obsforge/                   README and docs/
# The prefix defaults to /usr, so /etc is the system's (GNUInstallDirs maps /usr to /etc).
if(CMAKE_INSTALL_PREFIX_INITIALIZED_TO_DEFAULT)
  set(CMAKE_INSTALL_PREFIX /usr CACHE PATH "Install prefix" FORCE)
endif()
include(GNUInstallDirs)

set(OBS_BINDIR "${CMAKE_INSTALL_FULL_BINDIR}")
set(OBS_CONFDIR "${CMAKE_INSTALL_FULL_SYSCONFDIR}/obsforge")
set(OBS_DOCDIR "${CMAKE_INSTALL_FULL_DOCDIR}")
set(OBS_DATADIR "${CMAKE_INSTALL_FULL_DATADIR}/obsforge")
configure_file(packaging/obsforge.service.in "${CMAKE_BINARY_DIR}/packaging/obsforge.service" @ONLY)

if(TARGET obsforge)
  install(TARGETS obsforge RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
endif()
install(FILES packaging/obsforge.yaml DESTINATION "${OBS_CONFDIR}")
install(FILES "${CMAKE_BINARY_DIR}/packaging/obsforge.service"
        DESTINATION "lib/systemd/system")
install(FILES packaging/sysusers.conf DESTINATION "lib/sysusers.d" RENAME obsforge.conf)
install(DIRECTORY templates/ DESTINATION "${CMAKE_INSTALL_DATADIR}/obsforge/templates")
install(FILES stacks/demo.yaml DESTINATION "${CMAKE_INSTALL_DATADIR}/obsforge/examples/stacks")
install(DIRECTORY alerts/demo DESTINATION "${CMAKE_INSTALL_DATADIR}/obsforge/examples/alerts")
install(FILES README.md DESTINATION "${CMAKE_INSTALL_DOCDIR}")
install(DIRECTORY docs/ DESTINATION "${CMAKE_INSTALL_DOCDIR}"
        FILES_MATCHING PATTERN "*.md" PATTERN "*.yaml" PATTERN "generate" EXCLUDE)

# The .deb: Depends computed by dpkg-shlibdeps from what the binary links (CPACK_DEBIAN_PACKAGE_
# SHLIBDEPS), never listed by hand.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME obsforge)
set(CPACK_PACKAGE_VENDOR "obsforge")
set(CPACK_PACKAGE_CONTACT "obsforge maintainers <obsforge@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "render, apply, provision and health-check observability stacks")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "obsforge renders Prometheus, Alertmanager, Loki, Tempo, Grafana and OpenTelemetry\n\
collector configuration from one stack spec per environment, applies it with\n\
verification and rollback, provisions Grafana and the Loki ruler, and watches\n\
health with Slack notifications. Runs as a CLI or as a REST service.")
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)  # no debug info in the package: 4 MB installed instead of 134 MB
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "prometheus, prometheus-alertmanager, git")
configure_file(packaging/deb/conffiles.in "${CMAKE_BINARY_DIR}/packaging/deb/conffiles" @ONLY)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_BINARY_DIR}/packaging/deb/conffiles"
    "${CMAKE_SOURCE_DIR}/packaging/deb/postinst"
    "${CMAKE_SOURCE_DIR}/packaging/deb/prerm"
    "${CMAKE_SOURCE_DIR}/packaging/deb/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
