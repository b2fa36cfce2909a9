/**
 * Watches a stream of messages go by: one callback per message, one when it ends, however it
 * ends (the last message, an error, or the reader stopping early).
 * @module
 */
import { type Context, context } from "@opentelemetry/api";

/** What {@link observe} reports. */
export interface StreamObserver {
  /** A message was read. */
  message(): void;
  /** The stream ended after its last message. */
  done?(): void;
  /** Reading failed with `error`. */
  error?(error: unknown): void;
  /** The reader stopped before the end (`break`, `return()`). */
  stopped?(): void;
  /**
   * Runs every read inside this context: the next step of a generator handler runs within
   * the server span, so the spans its code starts nest under it.
   */
  bind?: Context;
}

/** An async iterable over `source` that reports to `observer`. */
export function observe<T>(source: AsyncIterable<T>, observer: StreamObserver): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const it = source[Symbol.asyncIterator]();
      const bind = observer.bind;
      const onResult = (result: IteratorResult<T>): IteratorResult<T> => {
        if (result.done) observer.done?.();
        else observer.message();
        return result;
      };
      const onError = (error: unknown): never => {
        observer.error?.(error);
        throw error;
      };
      return {
        next(): Promise<IteratorResult<T>> {
          let pending: Promise<IteratorResult<T>>;
          try {
            pending = bind === undefined ? it.next() : context.with(bind, () => it.next());
          } catch (error) {
            return Promise.reject(error).catch(onError);
          }
          return Promise.resolve(pending).then(onResult, onError);
        },
        async return(value?: unknown): Promise<IteratorResult<T>> {
          observer.stopped?.();
          const result =
            bind === undefined || it.return === undefined
              ? it.return?.(value)
              : context.with(bind, () => it.return?.(value));
          return (await result) ?? { done: true, value: undefined as T };
        },
      };
    },
  };
}
