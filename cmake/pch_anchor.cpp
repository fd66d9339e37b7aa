// Anchor translation unit for the shared precompiled header (see cmake/vecrl.cmake).
