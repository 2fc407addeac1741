# ctest helper: runs EXE in an empty directory DIR (created anew each time), so a docs program
# that creates "shop.crmkit" finds no file left over from an earlier test run. RUNS (default 1)
# runs it that many times in the same directory: a program marked "run twice" must work again on
# what its first run left behind.
if(NOT RUNS)
  set(RUNS 1)
endif()
file(REMOVE_RECURSE "${DIR}")
file(MAKE_DIRECTORY "${DIR}")
foreach(run RANGE 1 ${RUNS})
  execute_process(COMMAND "${EXE}" WORKING_DIRECTORY "${DIR}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${EXE} exited with ${rc} on run ${run}")
  endif()
endforeach()
