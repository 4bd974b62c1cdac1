import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';

/**
 * Lets a handler's error reach the transport as thrown. Nest's default RPC exception filter
 * replaces any error that is not an RpcException with `{ status: 'error' }`, which would hide
 * its kind (@sync/errors) from DomainEventsBatchServer: a database outage (EnvironmentError,
 * retried for as long as it lasts) would look like any failure and end up dead-lettered.
 */
@Catch()
export class DomainEventErrorsFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}
