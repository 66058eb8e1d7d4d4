# ccache for every compile when it is installed (OBS_CCACHE=ON, the default) and no launcher was
# given. CCACHE_BASEDIR is the source tree, so paths inside it are hashed relative to the build
# directory and a copy of the repository in another folder is served from the same cache entries;
# CCACHE_NOHASHDIR keeps the working directory out of the hash of -g compiles (the cached object's
# debug info then names the folder it was first built in, which only matters to a debugger).
option(OBS_CCACHE "Compile through ccache when it is installed" ON)
if(OBS_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  find_program(OBS_CCACHE_PROGRAM ccache)
  if(OBS_CCACHE_PROGRAM)
    set(CMAKE_CXX_COMPILER_LAUNCHER
        /usr/bin/env CCACHE_BASEDIR=${CMAKE_SOURCE_DIR} CCACHE_NOHASHDIR=true ${OBS_CCACHE_PROGRAM})
    message(STATUS "Compiling through ${OBS_CCACHE_PROGRAM} (base_dir ${CMAKE_SOURCE_DIR})")
  endif()
endif()
