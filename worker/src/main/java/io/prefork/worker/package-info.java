/**
 * The API for apps: {@link io.prefork.worker.Prefork} (the listeners, READY, request counting, the
 * stop hook) and {@link io.prefork.worker.Launcher}, the worker's main class that runs the app's.
 * Everything else here serves those two; {@code io.prefork.protocol} and {@code io.prefork.unix}
 * are internal to prefork.
 */
package io.prefork.worker;
