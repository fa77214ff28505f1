// The original design's React client (from the blog post), as plain JSX so a bundler can build it
// for production the way a create-react-app build would. Only the TypeScript types are dropped.
import React, { useEffect, useRef } from 'react';
import ReactDOM from 'react-dom';
import io from 'socket.io-client';

const pc_config = {
  iceServers: [{ urls: 'stun:stun.l.google.com:19302' }],
};

function App() {
  const localVideoRef = useRef(null);
  const remoteVideoRef = useRef(null);

  useEffect(() => {
    const newSocket = io.connect('http://localhost:8080');
    const newPC = new RTCPeerConnection(pc_config);

    const createOffer = () => {
      newPC
        .createOffer({ offerToReceiveAudio: true, offerToReceiveVideo: true })
        .then((sdp) => {
          newPC.setLocalDescription(new RTCSessionDescription(sdp));
          newSocket.emit('offer', sdp);
        })
        .catch((error) => console.log(error));
    };

    const createAnswer = (sdp) => {
      newPC.setRemoteDescription(new RTCSessionDescription(sdp)).then(() => {
        newPC
          .createAnswer({ offerToReceiveVideo: true, offerToReceiveAudio: true })
          .then((sdp1) => {
            newPC.setLocalDescription(new RTCSessionDescription(sdp1));
            newSocket.emit('answer', sdp1);
          })
          .catch((error) => console.log(error));
      });
    };

    newSocket.on('all_users', (allUsers) => {
      if (allUsers.length > 0) createOffer();
    });
    newSocket.on('getOffer', (sdp) => createAnswer(sdp));
    newSocket.on('getAnswer', (sdp) => newPC.setRemoteDescription(new RTCSessionDescription(sdp)));
    newSocket.on('getCandidate', (candidate) => {
      newPC.addIceCandidate(new RTCIceCandidate(candidate)).then(() => console.log('candidate add success'));
    });

    navigator.mediaDevices
      .getUserMedia({ video: true, audio: true })
      .then((stream) => {
        if (localVideoRef.current) localVideoRef.current.srcObject = stream;
        stream.getTracks().forEach((track) => newPC.addTrack(track, stream));
        newPC.onicecandidate = (e) => {
          if (e.candidate) newSocket.emit('candidate', e.candidate);
        };
        newPC.oniceconnectionstatechange = (e) => console.log(e);
        newPC.ontrack = (ev) => {
          if (remoteVideoRef.current) remoteVideoRef.current.srcObject = ev.streams[0];
        };
        newSocket.emit('join_room', { room: '1234', email: 'sample@naver.com' });
      })
      .catch((error) => console.log(`getUserMedia error: ${error}`));
  }, []);

  const style = { width: 240, height: 240, margin: 5, backgroundColor: 'black' };
  return (
    <div>
      <video style={style} muted ref={localVideoRef} autoPlay></video>
      <video id="remotevideo" style={style} ref={remoteVideoRef} autoPlay></video>
    </div>
  );
}

ReactDOM.render(<App />, document.getElementById('root'));
