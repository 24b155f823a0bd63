//! go-plugin's services: GRPCController (Shutdown), GRPCStdio and
//! GRPCBroker. The last two exist so that Terraform's client finds them;
//! their streams carry nothing and end when the server shuts down, so they
//! never hold up a graceful stop.

use std::pin::Pin;

use futures::{Stream, StreamExt as _};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

use super::proto::plugin as pb;

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// What GRPCController.Shutdown does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnShutdown {
    /// Stop serving (the process then exits): plugin mode.
    Stop,
    /// Keep serving: debug mode, where the process outlives each Terraform run.
    KeepServing,
}

/// GRPCController.
pub(crate) struct Controller {
    pub(crate) shutdown: CancellationToken,
    pub(crate) on_shutdown: OnShutdown,
}

#[tonic::async_trait]
impl pb::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _request: Request<pb::Empty>) -> Result<Response<pb::Empty>, Status> {
        match self.on_shutdown {
            OnShutdown::Stop => {
                tracing::debug!(tf_rpc = "Shutdown", "Shutting down");
                // The response still goes out: the server drains in-flight
                // calls before it stops.
                self.shutdown.cancel();
            }
            OnShutdown::KeepServing => {
                tracing::debug!(tf_rpc = "Shutdown", "Ignoring Shutdown in debug mode");
            }
        }
        Ok(Response::new(pb::Empty {}))
    }
}

/// GRPCStdio: we never capture our own output, so nothing is forwarded.
pub(crate) struct Stdio {
    pub(crate) shutdown: CancellationToken,
}

#[tonic::async_trait]
impl pb::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = BoxStream<pb::StdioData>;

    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        let stream = futures::stream::once(self.shutdown.clone().cancelled_owned())
            .filter_map(|()| futures::future::ready(None));
        Ok(Response::new(Box::pin(stream)))
    }
}

/// GRPCBroker: Terraform opens the stream but brokers nothing through it.
pub(crate) struct Broker {
    pub(crate) shutdown: CancellationToken,
}

#[tonic::async_trait]
impl pb::grpc_broker_server::GrpcBroker for Broker {
    type StartStreamStream = BoxStream<pb::ConnInfo>;

    async fn start_stream(
        &self,
        request: Request<Streaming<pb::ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        let mut inbound = request.into_inner();
        let shutdown = self.shutdown.clone();
        // Read and drop whatever arrives until the client hangs up or we stop.
        let idle = async move {
            tokio::select! {
                () = shutdown.cancelled() => {}
                () = async { while let Ok(Some(_)) = inbound.message().await {} } => {}
            }
        };
        let stream = futures::stream::once(idle).filter_map(|()| futures::future::ready(None));
        Ok(Response::new(Box::pin(stream)))
    }
}
