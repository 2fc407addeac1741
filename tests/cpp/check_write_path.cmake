# A source check run by ctest (test "store_one_write_path"): every write of the store goes through
# Store::Impl::WriteScope (core/src/store/write_scope.hpp). Outside write_scope.cpp and the SQLite
# wrapper, no store source may begin a transaction, take the writer lock or reach the writer
# connection, except store.cpp, which opens the store (one migration transaction) and owns
# lock_write(), checkpoint() and close().
# Usage: cmake -DSTORE_SRC=<core/src/store> -P check_write_path.cmake
file(GLOB sources ${STORE_SRC}/*.cpp ${STORE_SRC}/*.hpp)
set(failures "")
foreach(src ${sources})
  get_filename_component(name ${src} NAME)
  if(name MATCHES "^(sqlite|write_scope)\\.(cpp|hpp)$" OR name STREQUAL "store_impl.hpp")
    continue()
  endif()
  file(STRINGS ${src} lines)
  set(n 0)
  foreach(line IN LISTS lines)
    math(EXPR n "${n} + 1")
    if(line MATCHES "^[ ]*//")
      continue()
    endif()
    if(line MATCHES "WriteTxn|BEGIN|lock_write\\(|->writer|\\.writer|COMMIT")
      if(name STREQUAL "store.cpp")
        # The allowed uses in store.cpp: open's migration, lock_write's definition, checkpoint,
        # close, and the memory store's reads on the writer. Anything else there fails too.
        if(line MATCHES "sql::WriteTxn txn\\(db\\);|Store::Impl::lock_write\\(\\) \\{|impl->writer = std::make_unique|sql::Db& db = \\*impl->writer;|auto lock = impl_->lock_write\\(\\);|impl_->writer->raw\\(\\)|impl_->writer.reset\\(\\);|db_ = impl_.writer.get\\(\\);")
          continue()
        endif()
      endif()
      string(APPEND failures "${name}:${n}: ${line}\n")
    endif()
  endforeach()
endforeach()
if(failures)
  message(FATAL_ERROR "writes that bypass WriteScope:\n${failures}")
endif()
message(STATUS "store: every write goes through WriteScope")
